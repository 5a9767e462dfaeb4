"""The demo trust's people: about 60 across the four Davies groups and four directorates.

Deterministic, so seeding twice gives the same people (and changes nothing).
"""

import itertools

TRUST_CODE = "RNG"
TRUST_NAME = "Northgate Teaching Hospitals NHS Foundation Trust"
DIRECTORATES = ["Medicine", "Surgery", "Women's and Children's", "Clinical Support Services"]
DEMO_PASSWORD = "common-ground-demo"
DOMAIN = "northgate.example.nhs.uk"

FIRST = [
    "Aisha",
    "Ben",
    "Chloe",
    "Dev",
    "Ella",
    "Farid",
    "Grace",
    "Hamza",
    "Isla",
    "Jack",
    "Kavya",
    "Liam",
    "Maya",
    "Noah",
    "Olivia",
    "Priya",
    "Quinn",
    "Rhys",
    "Sofia",
    "Tom",
    "Uma",
    "Victor",
    "Wen",
    "Yusuf",
    "Zara",
]
LAST = [
    "Okafor",
    "Hughes",
    "Patel",
    "Morgan",
    "Nowak",
    "Campbell",
    "Rahman",
    "Evans",
    "Chen",
    "Kelly",
    "Ali",
    "Price",
    "Sharma",
    "Walsh",
    "Singh",
    "Reid",
    "Jones",
    "Khan",
    "Murphy",
    "Lewis",
    "Begum",
    "Taylor",
]

# (role, professional_group, level, directorate index or None, receives_board_report, login name)
NAMED = [
    ("medical_director", "clinical", "board", None, True, "md"),
    ("chief_executive", "managerial", "board", None, True, "ceo"),
    ("administrator", "managerial", "operational", None, False, "admin"),
    ("clinical_director", "clinical", "operational", 0, False, "cd.medicine"),
    ("clinical_director", "clinical", "operational", 1, False, "cd.surgery"),
    ("clinical_director", "clinical", "operational", 2, False, "cd.womens"),
    ("clinical_director", "clinical", "operational", 3, False, "cd.support"),
    ("directorate_manager", "managerial", "operational", 0, False, "dm.medicine"),
    ("directorate_manager", "managerial", "operational", 1, False, "dm.surgery"),
    ("directorate_manager", "managerial", "operational", 2, False, "dm.womens"),
    ("directorate_manager", "managerial", "operational", 3, False, "dm.support"),
]
# Further board members: 6 clinical (e.g. deputy medical directors, non-executive clinicians)
# and 5 managerial (finance, operations, strategy, workforce directors, chair).
EXTRA_BOARD = [("clinical", 6), ("managerial", 5)]
CONSULTANTS = 20
MANAGERS = 18


def demo_people():
    """Rows in the import CSV's shape (dicts keyed by its columns), with a stable login for each."""
    rows = []
    # Walk first names and surnames at different strides so that nobody shares a surname by accident.
    names = ((FIRST[i % len(FIRST)], LAST[(i * 5 + i // len(FIRST)) % len(LAST)]) for i in itertools.count())

    def add(role, group, level, directorate, report, login):
        first, surname = next(names)
        rows.append(
            {
                "email": f"{login}@{DOMAIN}",
                "full_name": f"{first} {surname}",
                "professional_group": group,
                "level": level,
                "role": role,
                "directorate": DIRECTORATES[directorate] if directorate is not None else "",
                "receives_board_report": "yes" if report else "no",
            }
        )

    for role, group, level, directorate, report, login in NAMED:
        add(role, group, level, directorate, report, login)
    for group, count in EXTRA_BOARD:
        for i in range(1, count + 1):
            add("board_member", group, "board", None, True, f"board.{group}{i}")
    for i in range(1, CONSULTANTS + 1):
        add("consultant", "clinical", "operational", i % len(DIRECTORATES), False, f"consultant{i}")
    for i in range(1, MANAGERS + 1):
        add("directorate_manager", "managerial", "operational", i % len(DIRECTORATES), False, f"manager{i}")
    return rows


DEMO_LOGINS = [
    ("Medical director", f"md@{DOMAIN}"),
    ("Chief executive", f"ceo@{DOMAIN}"),
    ("Clinical director (Medicine)", f"cd.medicine@{DOMAIN}"),
    ("Consultant", f"consultant1@{DOMAIN}"),
    ("Directorate manager (Surgery)", f"dm.surgery@{DOMAIN}"),
    ("Trust administrator", f"admin@{DOMAIN}"),
]
