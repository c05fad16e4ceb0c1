"""Traceability on a small spec written for the purpose: which response a status selects, which ids a schema failure
breaks (the deepest node on its path), which ids a body that passed gives evidence for (only the nodes it reached),
and how a body with several defects is judged (every failure, and the rest of the body still passes)."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest

from conformance.traceability import (
    ids_within,
    resolve,
    response_definition,
    response_requirements,
    response_schema,
    schema_evaluation,
    schema_failure_requirements,
    schema_pass_requirements,
    with_members,
)


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


SCHEMAS: dict[str, Any] = {
    "Card": {
        "type": "object",
        "required": ["number"],
        "x-requirements": ["R-CARD"],
        "properties": {
            "number": {"type": "string", "pattern": "^[0-9]+$", "x-requirements": ["R-NUMBER"]},
            "state": ref("State"),
            "tags": {
                "type": "array",
                "items": {"type": "string", "x-requirements": ["R-TAG"]},
                "x-requirements": ["R-TAGS"],
            },
            "owner": {"allOf": [ref("Person")], "x-requirements": ["R-OWNER"]},
            "people": {"type": "array", "items": ref("Person")},
            "note": {"oneOf": [{"type": "string", "x-requirements": ["R-NOTE-TEXT"]}, {"type": "null"}]},
            "extra": {"type": "object"},  # a node with no ids of its own
        },
    },
    "State": ref("StateName"),  # a reference to a reference
    "StateName": {"type": "string", "enum": ["ACTIVE", "BLOCKED"], "x-requirements": ["R-STATE"]},
    "Person": {
        "type": "object",
        "x-requirements": ["R-PERSON"],
        "properties": {"name": {"type": "string", "x-requirements": ["R-NAME"]}},
    },
    "Error": {
        "type": "object",
        "required": ["code"],
        "properties": {"code": {"type": "string", "x-requirements": ["R-CODE"]}},
    },
}
SPEC: dict[str, Any] = {
    "components": {
        "schemas": SCHEMAS,
        "responses": {
            "Error": {
                "description": "an error",
                "x-requirements": ["R-ERROR"],
                "content": {"application/json": {"schema": ref("Error")}},
            }
        },
    }
}
OPERATION: dict[str, Any] = {
    "x-requirements": "R-NOT-A-LIST",  # only a list of ids counts
    "responses": {
        "200": {
            "description": "a card",
            "x-requirements": ["R-FOUND", "R-CARD"],
            "content": {"application/json": {"schema": {"allOf": [ref("Card")]}}},
        },
        "204": {"description": "nothing", "x-requirements": ["R-EMPTY"]},
        "401": {"description": "refused", "x-requirements": ["R-AUTH"]},
        "4XX": {"$ref": "#/components/responses/Error"},
        "default": {"description": "anything else", "x-requirements": ["R-OTHER"]},
    },
}


# --- the spec's structure --------------------------------------------------------------------------------------


def test_references_are_followed_to_a_plain_node() -> None:
    assert resolve(SPEC, ref("State")) is SCHEMAS["StateName"]
    assert resolve(SPEC, SCHEMAS["Person"]) is SCHEMAS["Person"]
    assert resolve(SPEC, [ref("State")]) == [ref("State")]  # only a node is a reference


def test_the_ids_written_inside_a_node_without_following_references() -> None:
    assert ids_within(OPERATION) == {"R-FOUND", "R-CARD", "R-EMPTY", "R-AUTH", "R-OTHER"}
    assert ids_within(SCHEMAS["Card"]) == {"R-CARD", "R-NUMBER", "R-TAGS", "R-TAG", "R-OWNER", "R-NOTE-TEXT"}
    assert ids_within([SCHEMAS["Person"], SCHEMAS["StateName"], "text"]) == {"R-PERSON", "R-NAME", "R-STATE"}
    assert ids_within("R-NAME") == set()


@pytest.mark.parametrize(
    "status, ids",
    [(200, ("R-FOUND", "R-CARD")), (401, ("R-AUTH",)), (404, ("R-ERROR",)), (500, ("R-OTHER",)), (204, ("R-EMPTY",))],
)
def test_a_status_selects_its_own_response_then_its_range_then_the_default(status: int, ids: tuple[str, ...]) -> None:
    assert response_requirements(SPEC, OPERATION, status) == ids


def test_a_status_no_response_documents_selects_nothing() -> None:
    without_default = {"responses": {"200": OPERATION["responses"]["200"]}}
    assert response_definition(SPEC, without_default, 500) == {}
    assert response_requirements(SPEC, without_default, 500) == ()
    assert response_requirements(SPEC, {}, 200) == ()


def test_a_node_and_the_members_of_its_combinations_resolved() -> None:
    owner = SCHEMAS["Card"]["properties"]["owner"]
    assert with_members(SPEC, owner) == [owner, SCHEMAS["Person"]]
    note = SCHEMAS["Card"]["properties"]["note"]
    assert with_members(SPEC, note) == [note, *note["oneOf"]]
    nested = {"anyOf": [{"allOf": [ref("State")]}]}
    assert with_members(SPEC, nested) == [nested, nested["anyOf"][0], SCHEMAS["StateName"]]
    assert with_members(SPEC, None) == [] and with_members(SPEC, True) == []


def test_the_documented_schema_of_an_answer_stands_alone() -> None:
    schema = response_schema(SPEC, OPERATION, 404)
    assert schema == {"$ref": "#/components/schemas/Error", "components": SPEC["components"]}
    assert jsonschema_rs.Draft202012Validator(schema).is_valid({"code": "1"})
    assert response_schema(SPEC, OPERATION, 204) is None
    no_schema = {"responses": {"200": {"content": {"application/json": {"schema": True}}}}}
    assert response_schema(SPEC, no_schema, 200) is None


# --- a schema failure -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, ids",
    [
        ([], ("R-CARD",)),
        (["number"], ("R-NUMBER",)),
        (["state"], ("R-STATE",)),  # through two references
        (["tags"], ("R-TAGS",)),
        (["tags", 3], ("R-TAG",)),
        (["owner"], ("R-OWNER", "R-PERSON")),  # the node and its allOf member
        (["owner", "name"], ("R-NAME",)),
        (["people", 0, "name"], ("R-NAME",)),
        (["note"], ("R-NOTE-TEXT",)),
        (["extra", "deep"], ("R-CARD",)),  # no ids on the way: the deepest that has some
        (["unknown", "deeper"], ("R-CARD",)),
        (["owner", "name", "deeper"], ("R-NAME",)),
    ],
)
def test_a_schema_failure_breaks_the_ids_of_the_deepest_node_on_its_path(path: list, ids: tuple[str, ...]) -> None:
    assert schema_failure_requirements(SPEC, OPERATION, 200, path) == ids


def test_a_failure_in_an_answer_without_ids_in_its_schema_breaks_the_responses_own() -> None:
    assert schema_failure_requirements(SPEC, OPERATION, 404, []) == ("R-ERROR",)
    bare = {"responses": {"200": {"content": {"application/json": {"schema": {"type": "object"}}}}}}
    assert schema_failure_requirements(SPEC, bare, 200, ["x"]) == ()  # no ids anywhere: none to name
    assert schema_failure_requirements(SPEC, bare, 500, []) == ()  # an undocumented status
    assert schema_failure_requirements(SPEC, OPERATION, 404, ["code"]) == ("R-CODE",)
    assert schema_failure_requirements(SPEC, OPERATION, 204, ["any"]) == ("R-EMPTY",)


# --- a body that passed -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, ids",
    [
        ({"number": "1"}, ["R-FOUND", "R-CARD", "R-NUMBER"]),
        ({"number": "1", "tags": []}, ["R-FOUND", "R-CARD", "R-NUMBER", "R-TAGS"]),  # no item reached
        ({"tags": ["a", "b"]}, ["R-FOUND", "R-CARD", "R-TAGS", "R-TAG"]),
        ({"owner": {"name": "Ann"}}, ["R-FOUND", "R-CARD", "R-OWNER", "R-PERSON", "R-NAME"]),
        ({"people": [{}, {"name": "Bo"}]}, ["R-FOUND", "R-CARD", "R-PERSON", "R-NAME"]),
        ({"state": "ACTIVE", "extra": {"x": 1}}, ["R-FOUND", "R-CARD", "R-STATE"]),
        ("not an object", ["R-FOUND", "R-CARD"]),
    ],
)
def test_a_body_that_passed_gives_evidence_for_the_nodes_it_reached_only(body: Any, ids: list[str]) -> None:
    assert list(schema_pass_requirements(SPEC, OPERATION, 200, body)) == ids


def test_an_answer_without_a_body_schema_gives_evidence_for_its_own_ids() -> None:
    assert schema_pass_requirements(SPEC, OPERATION, 204, None) == ("R-EMPTY",)


def test_a_response_documented_by_reference_gives_evidence_through_it() -> None:
    assert schema_pass_requirements(SPEC, OPERATION, 404, {"code": "1"}) == ("R-ERROR", "R-CODE")


# --- every failure of a body, and what passed -----------------------------------------------------------------------


def evaluate(body: Any, status: int = 200) -> tuple[list, tuple[str, ...]]:
    validator = jsonschema_rs.Draft202012Validator(response_schema(SPEC, OPERATION, status))
    return schema_evaluation(SPEC, OPERATION, status, body, validator)


def test_a_good_body_fails_nothing_and_passes_what_it_reached() -> None:
    assert evaluate({"number": "1", "owner": {"name": "Ann"}}) == (
        [],
        ("R-FOUND", "R-CARD", "R-NUMBER", "R-OWNER", "R-PERSON", "R-NAME"),
    )


def test_a_body_with_two_defects_shows_both_and_the_rest_still_passes() -> None:
    failures, passed = evaluate({"number": "x1", "state": "LOST", "owner": {"name": "Ann"}, "tags": ["a", 5]})
    assert sorted((ids, path) for ids, _, path in failures) == [
        (("R-NUMBER",), ["number"]),
        (("R-STATE",), ["state"]),
        (("R-TAG",), ["tags", 1]),
    ]
    messages = {path[0]: message for _, message, path in failures}
    assert "LOST" in messages["state"] and "5" in messages["tags"]  # the validator's own words
    assert passed == ("R-FOUND", "R-CARD", "R-OWNER", "R-PERSON", "R-NAME", "R-TAGS")  # tags[0] passed, tags[1] not


def test_a_failure_of_the_whole_body_passes_none_of_its_own_ids() -> None:
    failures, passed = evaluate({"owner": {"name": "Ann"}})  # number is required
    assert [(ids, path) for ids, _, path in failures] == [(("R-CARD",), [])]
    assert passed == ("R-OWNER", "R-PERSON", "R-NAME")
    failures, passed = evaluate({}, status=404)
    assert [(ids, path) for ids, _, path in failures] == [(("R-ERROR",), [])]
    assert passed == ()


def test_a_node_whose_own_path_holds_no_error_passed_whatever_failed_below_it() -> None:
    failures, passed = evaluate({"number": "1", "people": [{"name": 5}]})
    assert [path for _, _, path in failures] == [["people", 0, "name"]]
    assert passed == ("R-FOUND", "R-CARD", "R-NUMBER", "R-PERSON")


def test_an_answer_without_a_body_schema_is_judged_on_its_own_ids() -> None:
    assert schema_evaluation(SPEC, OPERATION, 204, {"x": 1}, jsonschema_rs.Draft202012Validator({})) == (
        [],
        ("R-EMPTY",),
    )


# --- bounds on the work a body can cause ------------------------------------------------------------------------------


def deep_spec(levels: int, *, arrays: bool = False) -> tuple[dict, dict, Any]:
    """A spec whose answer nests `levels` objects (or arrays), each level with an id of its own, and a body that
    fills them."""
    node: dict[str, Any] = {"type": "object", "x-requirements": [f"L{levels}"]}
    body: Any = {}
    for level in reversed(range(levels)):
        if arrays:
            node, body = {"type": "array", "x-requirements": [f"L{level}"], "items": node}, [body]
        else:
            node, body = {"type": "object", "x-requirements": [f"L{level}"], "properties": {"in": node}}, {"in": body}
    operation = {"responses": {"200": {"content": {"application/json": {"schema": node}}}}}
    return {"components": {}}, operation, body


@pytest.mark.parametrize("arrays", [False, True], ids=["objects", "arrays"])
def test_the_walk_of_a_body_stops_twenty_one_levels_down(arrays: bool) -> None:
    spec, operation, body = deep_spec(25, arrays=arrays)
    reached = schema_pass_requirements(spec, operation, 200, body)
    assert reached == tuple(f"L{level}" for level in range(22))
    validator = jsonschema_rs.Draft202012Validator(response_schema(spec, operation, 200))
    assert schema_evaluation(spec, operation, 200, body, validator) == ([], reached)


def test_the_walk_reads_two_hundred_members_and_fifty_items() -> None:
    crowded = {**{f"x{n:03d}": 0 for n in range(199)}, "number": "1", "state": "ACTIVE"}
    assert "R-NUMBER" in schema_pass_requirements(SPEC, OPERATION, 200, crowded)
    assert "R-STATE" not in schema_pass_requirements(SPEC, OPERATION, 200, crowded)  # the 201st member
    assert evaluate(crowded)[1][-1] == "R-NUMBER"
    people = {"people": [{}] * 49 + [{"name": "fiftieth"}]}
    assert "R-NAME" in schema_pass_requirements(SPEC, OPERATION, 200, people)
    assert "R-NAME" in evaluate(people)[1]
    people = {"people": [{}] * 50 + [{"name": "fifty-first"}]}
    assert "R-NAME" not in schema_pass_requirements(SPEC, OPERATION, 200, people)
    assert "R-NAME" not in evaluate(people)[1]


def test_at_most_fifty_failures_of_one_body_are_told() -> None:
    failures, _ = evaluate({"number": "1", "people": [{"name": n} for n in range(60)]})
    assert len(failures) == 50
