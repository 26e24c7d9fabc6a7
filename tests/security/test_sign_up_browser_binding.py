"""A sign-up's id is not a key to it. The id is in the workflow id (`signup:{id}`), in Temporal's
history and in what the sign-up's approvers and administrators read; whoever learns it must not be
able to take over the journey from the browser that proved the address. The page binds the attempt
to that browser with a cookie only Foyer can make."""

import httpx

from tests.sign_up_support import result_state, submit_attributes, through_code
from tests.factories import make_flow
from tests.support import find_user, unique_email


async def test_knowing_the_sign_up_id_is_not_enough_to_submit_its_form(server, mail, organization_id):
    flow_id = await make_flow(organization_id)
    email = unique_email()
    async with httpx.AsyncClient(base_url=server, timeout=30) as owner, \
            httpx.AsyncClient(base_url=server, timeout=30) as intruder:
        sign_up_id, form = await through_code(owner, mail, flow_id, email)
        assert form.status_code == 200 and 'id="attributes-form"' in form.text, form.text[:800]

        # The intruder knows the id and sets the cookie the way the page used to set it.
        intruder.cookies.set("foyer_signup", sign_up_id, path="/signup")
        taken = await submit_attributes(intruder, flow_id, sign_up_id, email, displayName="Mallory",
                                        country="NO")
        assert taken.status_code == 400 and "not found in this browser" in taken.text, taken.text[:800]
        # A cookie made for another id does not open this one either.
        other = owner.cookies.get("foyer_signup").replace(sign_up_id, sign_up_id[:-1] + "x")
        intruder.cookies.set("foyer_signup", other, path="/signup")
        status = await intruder.get(f"/signup/{flow_id}/status")
        assert status.status_code == 400 and "not found in this browser" in status.text
        assert await find_user(email) is None

        done = await submit_attributes(owner, flow_id, sign_up_id, email, displayName="Olive Owner",
                                       country="NO")
        assert done.status_code == 200 and result_state(done.text) == "completed", done.text[:800]
        assert (await find_user(email)).display_name == "Olive Owner"
