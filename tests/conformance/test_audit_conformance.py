"""QueryVoiceFileAuditInfo: whatever review states the simulator's account holds, the console's client reads the same
over HTTP (the published states of reference §7.3, the reason of a rejection, no entry for an unknown code)."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifications.aliyun import get_vms_client, spec

CODES = st.lists(st.from_regex(r"[0-9a-f]{4}-[0-9a-f]{4}", fullmatch=True).map(lambda stem: f"{stem}.wav"),
                 min_size=1, max_size=spec.AUDIT_QUERY_MAX_CODES, unique=True)
FILES = st.fixed_dictionaries({
    "state": st.sampled_from(sorted(spec.AUDIT_STATES)),
    "reason": st.text(max_size=60),
    "known": st.booleans(),
})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(codes=CODES, data=st.data())
def test_the_client_reads_what_the_simulator_holds(vms_simulator, monkeypatch, codes, data):
    monkeypatch.setattr(vms_simulator.app.config, "qps_audit", 10_000)
    vms_simulator.app.account.clear()
    held = {code: data.draw(FILES) for code in codes}
    vms_simulator.app.account.merge({"voice_files": [
        {"code": code, "status": item["state"], "reason": item["reason"]} for code, item in held.items() if item["known"]]})
    answers = {answer.voice_code: answer for answer in get_vms_client().query_voice_file_audit(voice_codes=codes)}
    assert set(answers) == {code for code, item in held.items() if item["known"]}
    for code, answer in answers.items():
        state = held[code]["state"]
        assert (answer.provider_state, answer.state) == (state, spec.AUDIT_STATES[state])
        assert answer.reject_info == (held[code]["reason"] if state == "AUDIT_STATE_NOT_PASS" else "")


@pytest.mark.parametrize("state, word", [("AUDIT_STATE_PASS", "approved"), ("AUDIT_STATE_NOT_PASS", "rejected"),
                                         ("AUDIT_STATE_UPLOADING", "pending"), ("AUDIT_SATE_CANCEL", "cancelled")])
def test_only_a_pass_is_an_approval(state, word):
    """§7.3: only AUDIT_STATE_PASS may be dialled; "approved, being uploaded" still waits; the API's own misspelling."""
    assert spec.AUDIT_STATES[state] == word
