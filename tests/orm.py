"""Comparing an instance loaded by hand-written SQL (config.sql) with the ORM's load of it."""


def assert_loaded_alike(instance, loaded) -> None:
    """Every concrete field of `instance` has the value and the type it has in `loaded`."""
    for field in type(loaded)._meta.concrete_fields:
        name = field.attname
        assert getattr(instance, name) == getattr(loaded, name), name
        assert type(getattr(instance, name)) is type(getattr(loaded, name)), name
