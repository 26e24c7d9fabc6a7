"""Who the external-user lifecycle governs: a guest a campaign creates to assign access packages to
is governed by entitlement management; one the same campaign invites without packages is not, nor
is a guest who existed before the campaign named them with a package."""

import uuid

from sqlmodel import col, select

from foyer.db import reading
from foyer.models.directory import User
from tests.factories import make_package, make_user, self_service
from tests.test_campaign_end_to_end import wait_for_state


async def test_campaign_with_packages_makes_governed_guests(api, admin, organization_id):
    package, _, _, _ = await make_package(organization_id, policy=self_service())
    domain = f"gov-{uuid.uuid4().hex[:6]}.example"
    known = await make_user(organization_id, "Kit Known", guest=True)
    async with reading() as session:
        known_mail = (await session.get(User, known.id)).mail
    rows = [{"invitedUserEmailAddress": f"guest{i}@{domain}", "inviteRedirectUrl": "https://app.test/",
             "foyerAccessPackageIds": [package.id] if i < 2 else []} for i in range(4)]
    rows.append({"invitedUserEmailAddress": known_mail, "inviteRedirectUrl": "https://app.test/",
                 "foyerAccessPackageIds": [package.id]})
    response = await api.post("/v1.0/invitationCampaigns", headers=admin, json={"rows": rows, "concurrency": 2})
    assert response.status_code == 201, response.text
    done = await wait_for_state(api, admin, response.json()["id"], {"completed"})
    assert done["counts"]["invited"] == 5
    async with reading() as session:
        users = (await session.exec(select(User).where(col(User.mail).like(f"%@{domain}")))).all()
        governed = {u.mail.split("@")[0]: u.governed_by_entitlement for u in users}
        assert not (await session.get(User, known.id)).governed_by_entitlement
    assert governed == {"guest0": True, "guest1": True, "guest2": False, "guest3": False}
