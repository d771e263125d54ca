"""Jobs that call the tenant's own app (`http.request`), to hosts the tenant allowed."""
