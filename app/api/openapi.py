"""The OpenAPI 3.1 description of /api/v1 (checked against the live API by schemathesis)."""

from __future__ import annotations

from typing import Any

from deliberation.services.proposals import MAX_LENGTH

NULLABLE_DATETIME = {"type": ["string", "null"], "format": "date-time"}
COUNTS = {
    "type": "object",
    "required": ["agree", "disagree", "pass"],
    "properties": {k: {"type": "integer", "minimum": 0} for k in ("agree", "disagree", "pass")},
    "additionalProperties": False,
}
SLUG = {"name": "slug", "in": "path", "required": True,
        "schema": {"type": "string", "minLength": 1, "pattern": "^[^/?#%]+$"}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERROR = _json(_ref("Error"), "Error (message in the user's language)")


def _get(summary: str, schema: dict[str, Any], *, round_path: bool = True) -> dict[str, Any]:
    responses = {"200": _json(schema, "OK")}
    if round_path:
        responses["404"] = ERROR
    operation: dict[str, Any] = {"summary": summary, "responses": responses}
    if round_path:
        operation["parameters"] = [SLUG]
    return {"get": operation}


def _post(summary: str, body: dict[str, Any], ok: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"post": {
        "summary": summary,
        "parameters": [SLUG],
        "security": [{"session": [], "csrf": []}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
        "responses": {
            ok: _json(schema, "Saved"),
            **{code: ERROR for code in ("400", "401", "403", "404", "409", "413", "429")},
        },
    }}


SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object", "required": ["error"],
        "properties": {"error": {
            "type": "object", "required": ["status", "title", "message"],
            "properties": {"status": {"type": "integer"}, "title": {"type": "string"},
                           "message": {"type": "string"}},
        }},
    },
    "Round": {
        "type": "object",
        "required": ["slug", "title", "summary", "phase", "opens_at", "closes_at",
                     "accepts_votes", "accepts_proposals", "min_group_display"],
        "properties": {
            "slug": {"type": "string"}, "title": {"type": "string"},
            "summary": {"type": "string"},
            "phase": {"enum": ["collecting", "voting", "reflection", "closed"]},
            "opens_at": NULLABLE_DATETIME, "closes_at": NULLABLE_DATETIME,
            "accepts_votes": {"type": "boolean"}, "accepts_proposals": {"type": "boolean"},
            "min_group_display": {"type": "integer"},
        },
        "additionalProperties": False,
    },
    "Proposal": {
        "type": "object", "required": ["id", "text", "is_seed", "created_at", "votes"],
        "properties": {"id": {"type": "integer"}, "text": {"type": "string"},
                       "is_seed": {"type": "boolean"},
                       "created_at": {"type": "string", "format": "date-time"},
                       "votes": COUNTS},
        "additionalProperties": False,
    },
    "ProposalStat": {
        "type": "object", "required": ["proposal_id", "agree", "disagree", "pass"],
        "properties": {"proposal_id": {"type": "integer"},
                       **{k: {"type": "integer", "minimum": 0}
                          for k in ("agree", "disagree", "pass")}},
        "additionalProperties": False,
    },
    "Results": {
        "type": "object", "required": ["round", "snapshot"],
        "properties": {"round": {"type": "string"}, "snapshot": {"oneOf": [
            {"type": "null"},
            {"type": "object",
             "required": ["id", "created_at", "n_participants", "n_votes",
                          "hidden_small_groups", "unplaced", "in_small_groups", "overall",
                          "groups"],
             "properties": {
                 "id": {"type": "integer"},
                 "created_at": {"type": "string", "format": "date-time"},
                 "n_participants": {"type": "integer"}, "n_votes": {"type": "integer"},
                 "hidden_small_groups": {"type": "integer", "minimum": 0},
                 "unplaced": {"type": ["integer", "null"], "minimum": 0,
                              "description": "participants with too few votes to be placed "
                                             "yet (null: too few to show)"},
                 "in_small_groups": {"type": ["integer", "null"], "minimum": 0,
                                     "description": "participants in groups too small to "
                                                    "show (null: too few to show)"},
                 "overall": {"type": "array", "items": _ref("ProposalStat")},
                 "groups": {"type": "array", "items": {
                     "type": "object", "required": ["group_id", "size", "proposals"],
                     "properties": {"group_id": {"type": "integer"},
                                    "size": {"type": "integer"},
                                    "proposals": {"type": "array",
                                                  "items": _ref("ProposalStat")}}}},
             }},
        ]}},
    },
    "AgendaEntry": {
        "type": "object",
        "required": ["id", "proposal_id", "proposal_text", "proposal_withheld", "kind",
                     "support", "bridging", "robustness", "escalated_at", "response"],
        "properties": {
            "id": {"type": "integer"}, "proposal_id": {"type": "integer"},
            "proposal_text": {"type": ["string", "null"],
                              "description": "null when moderation withholds the text"},
            "proposal_withheld": {"enum": [None, "pending", "rejected", "hidden"],
                                  "description": "why the text is withheld (null: public)"},
            "kind": {"type": "string"},
            "support": {"type": "number"},
            "bridging": {"oneOf": [{"type": "null"}, {
                "type": "object", "required": ["score", "level", "words"],
                "description": "support the main disagreement does not explain "
                               "(Community Notes-style intercept); null on older items",
                "properties": {"score": {"type": "number"},
                               "level": {"enum": ["broad", "some", "narrow"]},
                               "words": {"type": "string"}}}]},
            "robustness": {"oneOf": [{"type": "null"}, {
                "type": "object", "required": ["level", "holds_for", "groupings", "words"],
                "description": "does the rule also hold for other groupings of the votes",
                "properties": {"level": {"enum": ["robust", "partial", "fragile"]},
                               "holds_for": {"type": "integer"},
                               "groupings": {"type": "integer"},
                               "words": {"type": "string"}}}]},
            "escalated_at": {"type": "string", "format": "date-time"},
            "response": {"oneOf": [{"type": "null"}, {
                "type": "object",
                "required": ["status", "outcome", "answer", "department", "due_at",
                             "answered_at"],
                "properties": {"status": {"type": "string"},
                               "outcome": {"type": ["string", "null"]},
                               "answer": {"type": "string", "description": "empty until answered"},
                               "department": {"type": "string"},
                               "due_at": {"type": "string", "format": "date-time"},
                               "answered_at": NULLABLE_DATETIME}}]},
        },
    },
}


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Hiroba open API",
            "version": "1.0.0",
            "description": (
                "Read-only open data about public deliberation rounds, plus voting and "
                "proposing for logged-in participants. No personal data is published; opinion "
                "groups smaller than a round's min_group_display are left out. POST requests "
                "use the session cookie and an X-CSRFToken header (GET /api/v1/csrf-token)."
            ),
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "servers": [{"url": "/api/v1"}],
        "paths": {
            "/csrf-token": _get("CSRF token for this session", {
                "type": "object", "required": ["csrf_token"],
                "properties": {"csrf_token": {"type": "string"}}}, round_path=False),
            "/rounds": _get("Public rounds", {
                "type": "object", "required": ["rounds"],
                "properties": {"rounds": {"type": "array", "items": _ref("Round")}}},
                round_path=False),
            "/rounds/{slug}": _get("One round", _ref("Round")),
            "/rounds/{slug}/proposals": {
                **_get("Published proposals with the vote counts of the latest snapshot (as "
                       "the results show them; never the live votes, which would tell whoever "
                       "knows when someone voted how they voted)", {
                    "type": "object", "required": ["round", "counts_as_of", "proposals"],
                    "properties": {"round": {"type": "string"},
                                   "counts_as_of": {"type": ["string", "null"],
                                                    "format": "date-time",
                                                    "description": "since when the counts stand "
                                                                   "(they move only once at least "
                                                                   "min_group_display people have "
                                                                   "voted since; null: none yet, "
                                                                   "every count 0)"},
                                   "proposals": {"type": "array", "items": _ref("Proposal")}}}),
                **_post("Submit a proposal",
                        {"type": "object", "required": ["text"],
                         "properties": {"text": {
                             "type": "string", "maxLength": MAX_LENGTH,
                             "pattern": "[A-Za-z0-9\u3040-\u30ff\u4e00-\u9fff]",
                             "description": "Plain text with at least one letter or digit; "
                                            "markup is kept as text, control characters "
                                            "are removed."}}},
                        "201",
                        {"type": "object", "required": ["id", "text", "status"],
                         "properties": {"id": {"type": "integer"}, "text": {"type": "string"},
                                        "status": {"enum": ["published", "pending"]}}}),
            },
            "/rounds/{slug}/results": _get("Latest opinion groups and statistics",
                                           _ref("Results")),
            "/rounds/{slug}/agenda": _get("Policy agenda with official responses", {
                "type": "object", "required": ["round", "agenda"],
                "properties": {"round": {"type": "string"},
                               "agenda": {"type": "array", "items": _ref("AgendaEntry")}}}),
            "/rounds/{slug}/votes": _post(
                "Cast or change a vote",
                {"type": "object", "required": ["proposal_id", "value"],
                 "properties": {"proposal_id": {"type": "integer"},
                                "value": {"type": "integer", "enum": [-1, 0, 1]}}},
                "200",
                {"type": "object", "required": ["proposal_id", "value"],
                 "properties": {"proposal_id": {"type": "integer"},
                                "value": {"type": "integer", "enum": [-1, 0, 1]}}}),
        },
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRFToken"},
            },
        },
    }
