-- Port scans over all data: sources reaching 20 or more distinct destination ports, on one or many targets.
-- Counts only the side that opened the connection (rejected attempts, or the lower port as the service),
-- so a busy server's replies to ephemeral ports do not count. Catches what one container's window cannot.
SELECT srcaddr, count(DISTINCT dstport) AS distinct_ports, count(DISTINCT dstaddr) AS targets,
       min(start_time) AS first_seen, max(end_time) AS last_seen
FROM flow_logs_v
WHERE dt >= CAST(CAST(current_date - INTERVAL '1' DAY AS date) AS varchar)
  AND dstport IS NOT NULL
  AND (action = 'REJECT' OR dstport < srcport)
GROUP BY srcaddr
HAVING count(DISTINCT dstport) >= 20
ORDER BY distinct_ports DESC, srcaddr
LIMIT 50
