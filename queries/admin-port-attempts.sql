-- SSH, Telnet, RPC, SMB, RDP, VNC and WinRM attempts by source, accepted and rejected (the default ADMIN_PORTS).
SELECT srcaddr, dstport, count(*) AS attempts,
       sum(CASE WHEN action = 'REJECT' THEN 1 ELSE 0 END) AS rejected,
       count(DISTINCT dstaddr) AS targets
FROM flow_logs
WHERE dt >= CAST(CAST(current_date - INTERVAL '1' DAY AS date) AS varchar)
  AND dstport IN (22, 23, 135, 139, 445, 3389, 5900, 5985, 5986)
GROUP BY srcaddr, dstport
ORDER BY attempts DESC, srcaddr, dstport
LIMIT 50
