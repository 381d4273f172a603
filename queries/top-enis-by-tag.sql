-- Top interfaces and instances by bytes, with their Name tag, owning service and tier.
SELECT interface_id, instance_id, element_at(eni_tags, 'Name') AS name, eni_service, subnet_tier,
       sum(bytes) AS total_bytes, count(*) AS flows
FROM flow_logs
WHERE dt >= CAST(CAST(current_date - INTERVAL '1' DAY AS date) AS varchar)
GROUP BY interface_id, instance_id, element_at(eni_tags, 'Name'), eni_service, subnet_tier
ORDER BY total_bytes DESC, interface_id, instance_id, name, eni_service, subnet_tier
LIMIT 25
