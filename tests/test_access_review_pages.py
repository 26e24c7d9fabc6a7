"""The reviewer pages: /reviews lists the reviews in progress that wait for me (as a reviewer, and
my own self-review); /reviews/{id} shows each person with their last sign-in and recommendation,
records Approve / Deny / Don't know (a justification when the review asks for one; CSRF-checked)
and accepts the recommendations; a guest's self-review shows only their own access, asked "Do
you still need access to …?"; someone who is neither reviewer nor reviewed gets a 404 page."""

import re

import httpx

from foyer.db import session_scope
from foyer.models.access_reviews import AccessReviewDecision
from tests.access_review_support import make_review
from tests.factories import make_group_and_app, make_user
from tests.portal_support import csrf_in, sign_in


async def decision_of(row_id: str) -> AccessReviewDecision:
    async with session_scope() as session:
        return await session.get(AccessReviewDecision, row_id)


async def test_a_reviewer_reviews_on_the_page(server, mail, organization_id):
    group, _ = await make_group_and_app(organization_id, "Partners")
    reviewer = await make_user(organization_id, "Rita Reviewer")
    ann = await make_user(organization_id, "Ann Active", guest=True)
    ian = await make_user(organization_id, "Ian Idle", guest=True)
    una = await make_user(organization_id, "Una Unknown", guest=True)
    definition, instance, rows = await make_review(
        organization_id, group, [ann, ian, una], reviewers=[reviewer],
        settings={"justificationRequiredOnApproval": True}, recommendations={ann.id: "Approve", ian.id: "Deny"})
    _, ended, _ = await make_review(organization_id, group, [ann], reviewers=[reviewer], status="Completed")

    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        await sign_in(client, mail, reviewer.mail, next="/reviews")
        listing = (await client.get("/reviews")).text
        assert f'id="review-{instance.id}"' in listing and definition.display_name in listing
        assert f'id="review-{ended.id}"' not in listing
        assert "3 not reviewed yet" in listing

        page = (await client.get(f"/reviews/{instance.id}")).text
        for person in (ann, ian, una):
            assert f'id="decision-{rows[person.id].id}"' in page and person.display_name in page
        assert re.search(rf'id="decision-{rows[ian.id].id}".*?data-recommendation="Deny"', page, re.S)
        assert 'class="last-sign-in"><time' in page and 'id="accept-recommendations"' in page

        action = f"/reviews/{instance.id}/decisions/{rows[una.id].id}"
        without = await client.post(action, data={"csrf": csrf_in(page, action), "decision": "Approve"})
        assert without.status_code == 400 and "justification is required" in without.text.lower()
        assert (await decision_of(rows[una.id].id)).decision == "NotReviewed"
        forged = await client.post(action, data={"csrf": "forged", "decision": "Deny"})
        assert forged.status_code == 403 and (await decision_of(rows[una.id].id)).decision == "NotReviewed"

        done = await client.post(action, data={"csrf": csrf_in(page, action), "decision": "DontKnow",
                                               "justification": "Ask her manager"})
        assert done.status_code == 200 and 'id="notice"' in done.text, done.text
        assert (await decision_of(rows[una.id].id)).decision == "DontKnow"

        accepted = await client.post(f"/reviews/{instance.id}/accept",
                                     data={"csrf": csrf_in(done.text, f"/reviews/{instance.id}/accept")})
        assert accepted.status_code == 200 and "Accepted 2 recommendations" in accepted.text, accepted.text
        assert (await decision_of(rows[ann.id].id)).decision == "Approve"
        assert (await decision_of(rows[ian.id].id)).decision == "Deny"

        closed = (await client.get(f"/reviews/{ended.id}")).text
        assert 'id="not-open"' in closed and "<form method=\"post\" action=\"/reviews/" not in closed


async def test_a_guest_reviews_their_own_access(server, mail, organization_id):
    group, _ = await make_group_and_app(organization_id, "Partners")
    gus = await make_user(organization_id, "Gus Guest", guest=True)
    other = await make_user(organization_id, "Olive Other", guest=True)
    outsider = await make_user(organization_id, "Otto Outsider")
    _, instance, rows = await make_review(organization_id, group, [gus, other], reviewers=None,
                                          recommendations={gus.id: "Deny", other.id: "Deny"})

    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        await sign_in(client, mail, gus.mail, next="/reviews")
        listing = (await client.get("/reviews")).text
        assert f'id="review-{instance.id}"' in listing and f"Your access to {group.display_name}" in listing
        page = (await client.get(f"/reviews/{instance.id}")).text
        assert f"Do you still need access to {group.display_name}?" in page
        assert f'id="decision-{rows[gus.id].id}"' in page and f'id="decision-{rows[other.id].id}"' not in page
        assert "Olive Other" not in page and 'id="accept-recommendations"' not in page
        assert 'data-recommendation' not in page

        theirs = f"/reviews/{instance.id}/decisions/{rows[other.id].id}"
        refused = await client.post(theirs, data={"csrf": csrf_in(page), "decision": "Deny"})
        assert refused.status_code == 403 and (await decision_of(rows[other.id].id)).decision == "NotReviewed"
        mine = f"/reviews/{instance.id}/decisions/{rows[gus.id].id}"
        kept = await client.post(mine, data={"csrf": csrf_in(page, mine), "decision": "Approve",
                                             "justification": "Still on the project"})
        assert kept.status_code == 200 and "Recorded: Approve for your access" in kept.text, kept.text
        row = await decision_of(rows[gus.id].id)
        assert row.decision == "Approve" and row.reviewed_by_id == gus.id

    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        await sign_in(client, mail, outsider.mail, next="/reviews")
        assert 'id="nothing-waiting"' in (await client.get("/reviews")).text
        assert (await client.get(f"/reviews/{instance.id}")).status_code == 404
        assert (await client.get("/reviews/not-an-instance")).status_code == 404
