"""The jobs table's layout, shared by the code that reads it and the CDK that creates it."""

TABLE_PARTITION_KEY = "pk"
TABLE_SORT_KEY = "sk"
TABLE_TTL_ATTRIBUTE = "ttl"
#: A tenant's jobs with one status, newest first: gsi1pk = TENANT#{t}#STATUS#{s}, gsi1sk = createdAt.
GSI_TENANT_STATUS = "byTenantStatus"
#: All of a tenant's jobs, newest first: gsi2pk = TENANT#{t}, gsi2sk = createdAt.
GSI_TENANT = "byTenant"
GSI_KEYS: dict[str, tuple[str, str]] = {
    GSI_TENANT_STATUS: ("gsi1pk", "gsi1sk"),
    GSI_TENANT: ("gsi2pk", "gsi2sk"),
}
