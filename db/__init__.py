"""The NormWatch database: schema, reference data, writes and publication."""
