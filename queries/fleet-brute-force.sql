-- Fleet-wide brute force in the last window: sources with 10 or more rejected admin-port attempts, all accounts and containers together.
-- Parameters as in fleet-port-scans: the window's end (ISO 8601 text) and its length in minutes, for each bound.
-- The ports are the default ADMIN_PORTS, as in admin-port-attempts.
SELECT srcaddr AS source, count(DISTINCT dstaddr) AS targets, count(*) AS attempts,
       count(DISTINCT dstport) AS distinct_ports, min(start) AS first_seen, max("end") AS last_seen
FROM flow_logs
WHERE dt >= date_format(from_unixtime(to_unixtime(from_iso8601_timestamp(?)) - ? * 60), '%Y-%m-%d')
  AND (dt || hour) >= date_format(from_unixtime(to_unixtime(from_iso8601_timestamp(?)) - ? * 60), '%Y-%m-%d%H')
  AND start >= to_unixtime(from_iso8601_timestamp(?)) - ? * 60
  AND action = 'REJECT'
  AND dstport IN (22, 23, 135, 139, 445, 3389, 5900, 5985, 5986)
GROUP BY srcaddr
HAVING count(*) >= 10
ORDER BY attempts DESC, source
LIMIT 50
