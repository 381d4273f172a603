-- Flagged flows by severity, with their sources.
SELECT severity, srcaddr, array_join(array_distinct(flatten(array_agg(flags))), ',') AS flag_ids,
       count(*) AS flows, min(start) AS first_seen
FROM flow_logs
WHERE dt >= CAST(CAST(current_date - INTERVAL '1' DAY AS date) AS varchar)
  AND severity <> 'none'
GROUP BY severity, srcaddr
ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, flows DESC, srcaddr
LIMIT 100
