-- Why a provider is unreachable ("key rejected (401)"), from its last health check; null when healthy or
-- never checked. Only words we wrote: never a provider's answer, which could echo a key.
alter table llm_providers add column health_detail text check (length(health_detail) <= 300);
