-- Rejected connections: who was refused, where, on which port.
SELECT srcaddr, dstaddr, dstport, protocol_name, count(*) AS attempts, sum(packets) AS packets
FROM flow_logs_v
WHERE dt >= CAST(CAST(current_date - INTERVAL '1' DAY AS date) AS varchar)
  AND action = 'REJECT'
GROUP BY srcaddr, dstaddr, dstport, protocol_name
ORDER BY attempts DESC, srcaddr, dstaddr, dstport, protocol_name
LIMIT 50
