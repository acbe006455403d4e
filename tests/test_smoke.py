def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json == {"status": "ok"}
    assert r.headers["X-Request-Id"]


def test_readyz(client):
    r = client.get("/readyz")
    assert r.status_code == 200, r.data
