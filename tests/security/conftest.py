import pytest

from ..conftest import use_shared_cache


@pytest.fixture(params=["per_host_cache", "shared_cache"])
def cache_configuration(request, settings):
    """Both ways VOM runs: `make run`'s cache on this host (sessions in the database) and
    production's (CACHE_URL on Redis, docker-compose.yml: sessions read through Redis).
    The access tests that use this run once in each."""
    if request.param == "shared_cache":
        from django.core.cache import cache

        use_shared_cache(settings, request.getfixturevalue("redis_url"))
        yield request.param
        cache.clear()
    else:
        yield request.param
