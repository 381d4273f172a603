-- Database-port access: who reaches database ports, accepted or rejected.
SELECT srcaddr, dstaddr, dstport, action, count(*) AS flows, sum(bytes) AS total_bytes
FROM flow_logs
WHERE dt >= CAST(CAST(current_date - INTERVAL '1' DAY AS date) AS varchar)
  AND dstport IN (1433, 1434, 1521, 2483, 2484, 3306, 5432, 5439, 6379, 9042, 9200, 11211, 27017, 50000)
GROUP BY srcaddr, dstaddr, dstport, action
ORDER BY flows DESC, srcaddr, dstaddr, dstport, action
LIMIT 50
