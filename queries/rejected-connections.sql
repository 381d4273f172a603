-- Rejected connections: who was refused, where, on which port.
SELECT srcaddr, dstaddr, dstport, protocol, count(*) AS attempts, sum(packets) AS packets
FROM flow_logs
WHERE dt >= CAST(CAST(current_date - INTERVAL '1' DAY AS date) AS varchar)
  AND action = 'REJECT'
GROUP BY srcaddr, dstaddr, dstport, protocol
ORDER BY attempts DESC
LIMIT 50
