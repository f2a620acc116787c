"""A real Prometheus scrapes the agent: it negotiates OpenMetrics by default,
so this proves Prometheus' own parser accepts what outpost serves, in both
formats."""
import textwrap

import pytest

from conftest import wait_for
from conftest import prometheus_query as query


@pytest.fixture
def prometheus(prometheus_server):
    def start(agent_port, job, om=True):
        return prometheus_server(textwrap.dedent(f"""\
            global: {{scrape_interval: 1s, evaluation_interval: 1s}}
            scrape_configs:
              - job_name: {job}
                scrape_interval: 1s
                static_configs: [{{targets: ["127.0.0.1:{agent_port}"]}}]
            """), job)
    return start


def test_prometheus_scrapes_agent(agent_factory, target, prometheus):
    a = agent_factory(textwrap.dedent(f"""\
        global: {{interval: 300ms, timeout: 250ms}}
        checks:
          - name: ok
            url: {target.url('/ok')}
          - name: bad
            url: {target.url('/status/503')}
        """))
    prom = prometheus(a.port, "outpost")
    # `up` is 1 only when the whole page parsed; the OpenMetrics page is what
    # Prometheus asks for first.
    wait_for(lambda: (r := query(prom, 'up{job="outpost"}')) and r[0]["value"][1] == "1",
             timeout=30, what="Prometheus to scrape the agent successfully")
    wait_for(lambda: query(prom, 'outpost_check_failures_total{check="bad",reason="http_status"}'
                                 ' > 0'), timeout=30, what="failure counter in Prometheus")
    r = query(prom, 'outpost_check_info{check="ok"}')
    assert r and r[0]["metric"]["target"] == target.url("/ok")
    # The median probe of a loopback /ok lies in the lowest buckets (<= 50 ms,
    # with room for sanitizer builds).
    r = wait_for(lambda: query(prom, 'histogram_quantile(0.5, rate('
                                     'outpost_check_duration_seconds_bucket{check="ok"}[1m]))'),
                 timeout=30, what="histogram_quantile over the agent's histogram")
    assert len(r) == 1 and 0 < float(r[0]["value"][1]) <= 0.05
    r = query(prom, 'scrape_samples_scraped{job="outpost"}')
    assert r and float(r[0]["value"][1]) > 50
