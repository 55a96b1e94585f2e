"""Forms for facilitators. Times are entered in Asia/Tokyo and converted to UTC."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)

from app.errors import attach_to_form
from app.forms import (
    DateTimeLocalField,
    DecimalField,
    HirobaForm,
    IntegerField,
    VersionedForm,
    to_tokyo_naive,
    to_utc,
)
from app.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    PlausibleYear,
    ValidationError,
)
from deliberation import small_counts
from deliberation.errors import DomainError
from deliberation.models.round import DEFAULT_THRESHOLD_POLICY
from deliberation.services.facilitation import MAX_SEED_LENGTH, validate_policy
from deliberation.services.workshops import MAX_HOURS, MAX_SEATS

DT_FORMAT = "%Y-%m-%dT%H:%M"
POLICY_FIELDS = ("min_votes", "min_agrees", "min_groups", "min_group_size", "confidence",
                 "min_group_agree", "min_consensus", "min_bridging", "require_robust")


def phase_choices(*, public: bool = False) -> list[SelectChoice]:
    """The phases a round can be set to; for a round that is ``public``, draft is shown but
    not offered (a draft is invisible, so a public round does not go back to one)."""
    return [SelectChoice("draft", _l("Draft"), {"disabled": True} if public else {}),
            SelectChoice("collecting", _l("Collecting proposals")),
            SelectChoice("voting", _l("Voting")), SelectChoice("reflection", _l("Reflection")),
            SelectChoice("closed", _l("Closed"))]


def moderation_choices() -> list[SelectChoice]:
    return [SelectChoice("strict", _l("Strict: new proposals wait for approval")),
            SelectChoice("open", _l("Open: published at once, reviewed after"))]


def eligibility_choices() -> list[SelectChoice]:
    return [SelectChoice("everyone", _l("Everyone with an account")),
            SelectChoice("residents", _l("Residents only")),
            SelectChoice("verified", _l("Verified participants only"))]


def method_choices() -> list[SelectChoice]:
    # the method's name as a Japanese reader knows it (主成分分析); UMAP has no other name
    return [SelectChoice("pca", _l("PCA")), SelectChoice("umap", "UMAP")]


def kind_choices() -> list[SelectChoice]:
    return [SelectChoice("resident", _l("Resident")), SelectChoice("e_citizen", _l("E-citizen")),
            SelectChoice("visitor", _l("Visitor")), SelectChoice("unknown", _l("Unknown"))]


def parse_links(raw: str) -> list[dict[str, str]]:
    """Background links, one per line: "Title | https://..." or just the URL."""
    links = []
    for number, line in enumerate(raw.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        title, _, url = line.rpartition("|") if "|" in line else (line, "", line)
        title, url = title.strip(), url.strip()
        if not url.startswith(("https://", "http://")):
            raise ValidationError(_l("Line %(n)s: the link must start with https:// or http://.",
                                     n=number))
        links.append({"title": title or url, "url": url})
    return links


def format_links(links: list[dict[str, str]]) -> str:
    return "\n".join(f"{link.get('title', '')} | {link.get('url', '')}" for link in links or [])


class RoundForm(VersionedForm):
    slug = StringField(_l("Address (slug)"), validators=[DataRequired(), Length(max=64)],
                       description=_l("Lower-case letters, digits and hyphens, e.g. town-2030."))
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    summary = StringField(_l("Summary"), validators=[Optional(), Length(max=500)])
    description = TextAreaField(_l("Description (Markdown)"), validators=[Optional()])
    background_links = TextAreaField(
        _l("Background links"), validators=[Optional()],
        description=_l("One per line: Title | https://example.org/..."))
    opens_at = DateTimeLocalField(_l("Opens (Japan time)"), format=DT_FORMAT,
                                  validators=[Optional(), PlausibleYear()])
    closes_at = DateTimeLocalField(_l("Closes (Japan time)"), format=DT_FORMAT,
                                   validators=[Optional(), PlausibleYear()])
    phase = SelectField(_l("Phase"), choices=phase_choices, default="draft")
    moderation_mode = RadioField(
        _l("Moderation"), default="open",
        choices=moderation_choices)
    eligibility = RadioField(
        _l("Who may take part"), default="everyone",
        choices=eligibility_choices)
    clustering_method = SelectField(_l("Clustering method"), default="pca",
                                    choices=method_choices)
    max_groups = IntegerField(_l("Maximum number of opinion groups"), default=5,
                              validators=[InputRequired(), NumberRange(2, 12)])
    # The threshold policy's ranges are the domain's (validate() below): fields here only
    # parse numbers, so the form cannot accept or refuse anything the service would not.
    min_votes = IntegerField(_l("Minimum votes in total"),
                             default=DEFAULT_THRESHOLD_POLICY["min_votes"],
                             validators=[InputRequired()])
    min_agrees = IntegerField(_l("Minimum agree votes in total"),
                              default=DEFAULT_THRESHOLD_POLICY["min_agrees"],
                              validators=[InputRequired()])
    min_groups = IntegerField(_l("Minimum number of opinion groups"),
                              default=DEFAULT_THRESHOLD_POLICY["min_groups"],
                              validators=[InputRequired()])
    min_group_size = IntegerField(_l("Minimum members for a group to count"),
                                  default=DEFAULT_THRESHOLD_POLICY["min_group_size"],
                                  validators=[InputRequired()])
    # places=None: a stored value such as 0.995 is shown as it is, not rounded to 1.00.
    confidence = DecimalField(_l("Statistical confidence (e.g. 0.90)"), places=None,
                              default=DEFAULT_THRESHOLD_POLICY["confidence"],
                              validators=[InputRequired()])
    min_group_agree = DecimalField(_l("Minimum agree share in every group (0–1)"), places=None,
                                   default=DEFAULT_THRESHOLD_POLICY["min_group_agree"],
                                   validators=[InputRequired()])
    min_consensus = DecimalField(_l("Minimum group-aware consensus (0–1, blank: off)"),
                                 places=None, validators=[Optional()])
    min_bridging = DecimalField(
        _l("Minimum bridging score (support across the main divide, −1–1, blank: off)"),
        places=None, validators=[Optional()])
    require_robust = BooleanField(
        _l("Escalate only when the support holds however the opinion groups are drawn"))
    # Ranges of these settings are checked once, by the service (facilitation.ROUND_NUMBER_RANGES).
    report_threshold = IntegerField(_l("Reports before a proposal is hidden"), default=3,
                                    validators=[InputRequired()])
    reports_need_participation = BooleanField(
        _l("Count only reports from people who have voted in this round"), default=True,
        description=_l("Reports always count only from accounts with a confirmed address."))
    report_support_step = IntegerField(
        _l("One more report needed per this many agree votes"), default=10,
        validators=[InputRequired()],
        description=_l("A proposal many people support cannot be hidden by a few reports. "
                       "0: the number of reports needed does not grow."))
    min_group_display = IntegerField(
        _l("Minimum group size shown in results"), default=small_counts.MIN_COUNT,
        validators=[InputRequired()],
        description=_l("Groups and counts of fewer people are shown on no page, export or "
                       "API. At least 5, to protect privacy."))
    response_deadline_days = IntegerField(_l("Days for the council to answer"), default=60,
                                          validators=[InputRequired()])
    open_data_enabled = BooleanField(_l("Publish the anonymised open-data export"))

    def validate(self, extra_validators: Any = None) -> bool:
        """The fields' own checks, then the threshold policy through the domain's rule
        (``facilitation.validate_policy``), whose error shows under the field it names."""
        valid = super().validate(extra_validators)
        if any(getattr(self, name).errors for name in POLICY_FIELDS):
            return False  # a value that is not a number: already explained
        try:
            validate_policy(self.policy())
        except DomainError as error:
            attach_to_form(self, error)
            return False
        return valid

    def validate_background_links(self, field: Any) -> None:
        self.parsed_links = parse_links(field.data or "")

    def validate_closes_at(self, field: Any) -> None:
        if field.data and self.opens_at.data and field.data <= self.opens_at.data:
            raise ValidationError(_l("The closing time must be after the opening time."))

    def policy(self) -> dict[str, Any]:
        """The threshold policy as entered; ``validate_policy`` checks it and turns the
        numbers into floats (also where one cannot be, such as "sNaN")."""
        policy = {name: getattr(self, name).data for name in POLICY_FIELDS}
        policy["require_robust"] = bool(policy["require_robust"])
        return policy

    def values(self) -> dict[str, Any]:
        return {
            "title": self.title.data.strip(), "summary": (self.summary.data or "").strip(),
            "description": self.description.data or "",
            "background_links": getattr(self, "parsed_links", []),
            "opens_at": to_utc(self.opens_at.data), "closes_at": to_utc(self.closes_at.data),
            "phase": self.phase.data, "moderation_mode": self.moderation_mode.data,
            "eligibility": self.eligibility.data,
            "clustering_method": self.clustering_method.data,
            "max_groups": self.max_groups.data, "threshold_policy": self.policy(),
            "report_threshold": self.report_threshold.data,
            "reports_need_participation": bool(self.reports_need_participation.data),
            "report_support_step": self.report_support_step.data,
            "min_group_display": self.min_group_display.data,
            "response_deadline_days": self.response_deadline_days.data,
            "open_data_enabled": bool(self.open_data_enabled.data),
        }

    def load(self, round_: Any) -> None:
        """Fill the form from a round (GET of the edit page)."""
        for key in ("slug", "title", "summary", "description", "phase", "moderation_mode",
                    "eligibility", "clustering_method", "max_groups", "report_threshold",
                    "reports_need_participation", "report_support_step", "min_group_display", "response_deadline_days", "open_data_enabled"):
            getattr(self, key).data = getattr(round_, key)
        # what is applied: a round stored with a smaller figure still hides groups under 5
        self.min_group_display.data = small_counts.minimum(round_.min_group_display)
        self.background_links.data = format_links(round_.background_links)
        self.opens_at.data = to_tokyo_naive(round_.opens_at)
        self.closes_at.data = to_tokyo_naive(round_.closes_at)
        for key, value in round_.policy.items():
            getattr(self, key).data = value
        self.version.data = round_.updated_at.isoformat()


class SeedForm(HirobaForm):
    text = TextAreaField(_l("Proposal"), validators=[Optional(), Length(max=MAX_SEED_LENGTH)])
    upload = FileField(_l("Or upload a CSV or text file (one proposal per line)"))


class ImportForm(HirobaForm):
    slug = StringField(_l("Address (slug) of the new round"),
                       validators=[DataRequired(), Length(max=64)])
    title = StringField(_l("Title (blank: the topic in summary.csv)"),
                        validators=[Optional(), Length(max=200)])
    phase = SelectField(_l("Phase"), choices=phase_choices, default="voting")
    archive = FileField(_l("Pol.is export as a zip file"))
    comments = FileField("comments.csv")
    votes = FileField("votes.csv")
    participants_votes = FileField("participants-votes.csv")
    summary = FileField("summary.csv")
    math_pca2 = FileField("math-pca2.json")


class AssistedForm(HirobaForm):
    label = StringField(_l("Label"), validators=[DataRequired(), Length(max=80)],
                        description=_l("e.g. Workshop 2026-11-20 #3 (no names)"))
    kind = SelectField(_l("Kind"), default="resident",
                       choices=kind_choices)


class WorkshopForm(HirobaForm):
    # The service (deliberation/services/workshops.py) checks all of this too, one mistake
    # at a time; the form checks first so that a facilitator sees every mistake at once.
    label = StringField(_l("Name of the workshop"),
                        description=_l("e.g. Central community hall, 20 November (no names "
                                       "of people)"),
                        validators=[DataRequired(_l("Please name the workshop, e.g. the venue "
                                                    "and date."))])
    hours = IntegerField(_l("Open for (hours, 1–12)"), default=3, validators=[
        InputRequired(), NumberRange(1, MAX_HOURS, _l("Enter a whole number of hours from 1 "
                                                      "to 12."))])
    seats = IntegerField(_l("Accounts that may be created through it (1–500)"), default=60,
                         validators=[InputRequired(), NumberRange(
                             1, MAX_SEATS, _l("Enter a whole number of seats from 1 to 500."))])
