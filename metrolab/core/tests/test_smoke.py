def test_health_is_public(client, db):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_cast_has_every_role(cast):
    from metrolab.core.roles import ROLES

    for code in ROLES:
        assert cast[code].role_codes == {code}
