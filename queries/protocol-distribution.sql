-- Protocol distribution (IANA numbers: 6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, 47 GRE, 50 ESP).
SELECT protocol, count(*) AS flows, sum(bytes) AS total_bytes
FROM flow_logs
WHERE dt >= CAST(CAST(current_date - INTERVAL '1' DAY AS date) AS varchar)
  AND protocol IS NOT NULL
GROUP BY protocol
ORDER BY flows DESC
