-- Tier-to-tier traffic matrix: each connection counted once, at the interface that received it; an address
-- outside the VPC's tiers is 'external'.
WITH tiers AS (
  SELECT CASE WHEN flow_direction = 'ingress' THEN dstaddr ELSE srcaddr END AS address, max(subnet_tier) AS tier
  FROM flow_logs
  WHERE dt >= CAST(CAST(current_date - INTERVAL '1' DAY AS date) AS varchar)
    AND subnet_tier IS NOT NULL
  GROUP BY CASE WHEN flow_direction = 'ingress' THEN dstaddr ELSE srcaddr END
)
SELECT coalesce(s.tier, 'external') AS src_tier, coalesce(d.tier, 'external') AS dst_tier,
       count(*) AS flows, sum(f.bytes) AS total_bytes
FROM flow_logs f
LEFT JOIN tiers s ON f.srcaddr = s.address
LEFT JOIN tiers d ON f.dstaddr = d.address
WHERE f.dt >= CAST(CAST(current_date - INTERVAL '1' DAY AS date) AS varchar)
  AND f.flow_direction = 'ingress'
  AND f.dstport < f.srcport
GROUP BY coalesce(s.tier, 'external'), coalesce(d.tier, 'external')
ORDER BY total_bytes DESC, src_tier, dst_tier
