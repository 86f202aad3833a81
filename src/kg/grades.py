"""Admiralty-style source reliability (A–F), by documented rules on the source's type.

The rules grade what kind of source it is, since the report gives no track record per source:

| source type | grade | why |
| --- | --- | --- |
| OfficialDocument, LegalAct | B | authentic and accountable, but an interested party |
| AcademicPaper, ResearchReport | B | methodical and reviewed, usually second-hand |
| InterviewWithOfficial | C | first-hand but anonymous and unverifiable |
| MediaArticle | C | edited, often relaying official or anonymous sources |
| FieldExperience | C | first-hand, the authors' own, not independently checkable |
| PersonalCommunication | D | informal, anonymous, often years old |
| SocialMediaPost | D | an individual's post, unedited |
| ThisReport | F | no reference: nothing to judge the statement by but the report itself |

A claim resting on several sources is as strong as its weakest (the grade shown with `--why`).
"""

from __future__ import annotations

RELIABILITY: dict[str, str] = {
    "OfficialDocument": "B",
    "LegalAct": "B",
    "AcademicPaper": "B",
    "ResearchReport": "B",
    "InterviewWithOfficial": "C",
    "MediaArticle": "C",
    "FieldExperience": "C",
    "PersonalCommunication": "D",
    "SocialMediaPost": "D",
    "ThisReport": "F",
}


def reliability(source_type: str) -> str:
    """The grade of a source type (local name, e.g. 'MediaArticle'); unknown types cannot be judged (F)."""
    return RELIABILITY.get(source_type, "F")


def weakest(source_types: list[str]) -> str:
    """The weakest grade among the sources (F when there are none): A is strongest, F weakest."""
    grades = [reliability(t) for t in source_types] or ["F"]
    return max(grades)
