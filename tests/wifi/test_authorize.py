"""Authorize and post-auth through the endpoints FreeRADIUS's rest module calls."""

from __future__ import annotations

from sqlalchemy import update
from tests.wifi.conftest import World

from cityops.core.store import write_transaction
from cityops.wifi.schema import radius_users, sign_ins


def reply_values(body: dict[str, dict[str, object]]) -> dict[str, object]:
    return {name: item["value"] for name, item in body.items()}


def test_pap_accept_returns_the_plan_in_wispr_and_mikrotik_forms(world: World) -> None:
    code = world.vouchers["cong-dong"]
    response = world.rest("authorize", "nas-park", User_Name=code, User_Password=code)
    assert response.status_code == 200, response.text
    values = reply_values(response.json())
    assert values["control:Auth-Type"] == "Accept"
    assert values["reply:Session-Timeout"] == 3600
    assert values["reply:WISPr-Bandwidth-Max-Down"] == 4_000_000
    assert values["reply:WISPr-Bandwidth-Max-Up"] == 1_000_000
    assert values["reply:Mikrotik-Rate-Limit"] == "1000k/4000k"
    assert values["reply:Mikrotik-Total-Limit"] == 500_000_000
    assert values["reply:Mikrotik-Total-Limit-Gigawords"] == 0
    assert values["reply:Acct-Interim-Interval"] == 300
    assert all(item["do_xlat"] is False for item in response.json().values())


def test_chap_gets_the_code_for_freeradius_to_check(world: World) -> None:
    code = world.vouchers["cong-dong"]
    response = world.rest("authorize", "nas-park", User_Name=code, CHAP_Password="0x01abcdef")
    assert response.status_code == 200
    assert reply_values(response.json())["control:Cleartext-Password"] == code


def rejected(world: World, nas: str = "nas-park", **attributes: str | int) -> str:
    response = world.rest("authorize", nas, **attributes)
    assert response.status_code == 401, response.text
    message = reply_values(response.json())["reply:Reply-Message"]
    assert isinstance(message, str)
    return message


def test_rejects_name_the_reason(world: World) -> None:
    code = world.vouchers["cong-dong"]
    assert "Wrong username" in rejected(world, User_Name=code, User_Password="nope")
    assert "Wrong username" in rejected(world, User_Name="NOBODY", User_Password="nope")
    # A voucher of another tenant does not open this tenant's network.
    cafe = world.vouchers["cafe-sao"]
    assert "Wrong username" in rejected(world, User_Name=cafe, User_Password=cafe)
    assert "Unknown access point" in rejected(world, "nas-gone", User_Name=code, User_Password=code)
    with write_transaction(world.kernel.engine) as conn:
        conn.execute(update(radius_users).where(radius_users.c.username == code).values(valid_until_ms=1))
    assert "hết hạn" in rejected(world, User_Name=code, User_Password=code)


def test_quota_used_up_and_device_limit(world: World) -> None:
    code = world.vouchers["cong-dong"]
    for session in ("a", "b"):
        world.account(Acct_Status_Type="Start", Acct_Session_Id=session, User_Name=code)
    assert "thiết bị" in rejected(world, User_Name=code, User_Password=code)  # max_devices = 2
    world.account(Acct_Status_Type="Stop", Acct_Session_Id="a", Acct_Input_Octets=250_000_000)
    response = world.rest("authorize", "nas-park", User_Name=code, User_Password=code)
    assert response.status_code == 200
    assert reply_values(response.json())["reply:Mikrotik-Total-Limit"] == 250_000_000  # what is left today
    world.account(Acct_Status_Type="Stop", Acct_Session_Id="b", Acct_Output_Octets=250_000_000)
    assert "dung lượng" in rejected(world, User_Name=code, User_Password=code)


def test_post_auth_records_outcome_and_first_use_never_the_password(world: World) -> None:
    code = world.vouchers["cafe-sao"]
    assert world.rest("post-auth", "nas-cafe", User_Name=code, User_Password=code).status_code == 204
    assert (
        world.rest("post-auth-reject", "nas-cafe", User_Name=code, User_Password="typo-pw").status_code == 204
    )
    with world.kernel.engine.connect() as conn:
        rows = conn.execute(sign_ins.select().order_by(sign_ins.c.id)).all()
        first_used = (
            conn.execute(radius_users.select().where(radius_users.c.username == code)).one().first_used_ms
        )
    assert [r.accepted for r in rows] == [True, False]
    assert first_used is not None
    assert "typo-pw" not in repr(rows)


def test_too_many_attributes_and_long_values_are_refused(world: World) -> None:
    too_many = {f"Attr-{i}": {"type": "string", "value": ["x"]} for i in range(201)}
    response = world.client.post(
        "/api/wifi/radius/authorize?nas=nas-park", json=too_many, headers=world_headers()
    )
    assert response.status_code == 400
    response = world.rest("authorize", "nas-park", User_Name="x" * 65, User_Password="p")
    assert response.status_code == 400 and "User-Name" in response.text


def world_headers() -> dict[str, str]:
    from tests.wifi.conftest import basic

    return basic()
