-- Traffic over time in 5-minute bins (epoch seconds of the bin start).
SELECT start - (start % 300) AS bin_start, count(*) AS flows, sum(bytes) AS total_bytes,
       sum(CASE WHEN action = 'REJECT' THEN 1 ELSE 0 END) AS rejected
FROM flow_logs
WHERE dt >= CAST(CAST(current_date - INTERVAL '1' DAY AS date) AS varchar)
  AND start IS NOT NULL
GROUP BY start - (start % 300)
ORDER BY bin_start
