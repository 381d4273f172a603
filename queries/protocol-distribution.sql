-- Protocol distribution by IANA keyword (tcp, udp, icmp, ipv6-icmp, gre, esp, ...; the number where none).
SELECT protocol_name, count(*) AS flows, sum(bytes) AS total_bytes
FROM flow_logs_v
WHERE dt >= CAST(CAST(current_date - INTERVAL '1' DAY AS date) AS varchar)
  AND protocol_name IS NOT NULL
GROUP BY protocol_name
ORDER BY flows DESC, protocol_name
