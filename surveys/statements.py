"""The optional statement bank of the pulse, in our own words, covering the touchstones of the
2002 national survey (DESIGN.md §1). Answered on a 5-point agreement scale. Keys are stable:
they are stored with the answers."""

STATEMENTS = {
    "involvement": "Clinicians here are genuinely involved in decisions about how services are run.",
    "managers": "The managers I work with are capable and well informed.",
    "leadership": "I have confidence in the trust's management and leadership.",
    "balance": "Clinical and financial priorities are balanced fairly here.",
    "communication": "Doctors and managers here communicate openly with each other.",
    "resourcing": "Services are resourced well enough to do what we have agreed.",
}

AGREEMENT = {
    1: "Strongly disagree",
    2: "Disagree",
    3: "Neither agree nor disagree",
    4: "Agree",
    5: "Strongly agree",
}
