"""Reports built before the disclosure engine: the migration blanks the counts of hidden groups in
their snapshot and stored CSV, and changes nothing else."""

import importlib

scrub = importlib.import_module("surveys.migrations.0004_snapshot_hidden_counts")

HEADER = ",".join(
    "objective_ref,objective_title,theme,period,n_clinical,mean_clinical,n_managerial,mean_managerial".split(",")
    + "gap,p_value,q_value,effect_size,status".split(",")
)
SHOWN = "OBJ-02,Rotas,dialogue,2026-02,6,1.67,6,4.00,-2.33,0.0043,0.0043,-1.000,divergent\r\n"


def test_the_stored_csv_loses_the_n_of_hidden_groups_only():
    hidden = 'OBJ-01,"Waits, shared",continuity,2026-02,5,3.00,{},,,,,,insufficient\r\n'
    text = f"{HEADER}\r\n" + hidden.format("4") + SHOWN
    assert scrub._scrub_csv(text) == f"{HEADER}\r\n" + hidden.format("") + SHOWN
    assert scrub._scrub_csv("") == ""


def test_the_snapshot_loses_hidden_counts_and_reasons():
    data = {
        "version": 1,
        "objectives": [
            {
                "ref": "OBJ-01",
                "groups": [
                    {"group": "clinical", "n": 5, "mean": "3.00"},
                    {"group": "senior_clinical", "n": 1, "mean": None},
                ],
            }
        ],
        "responses": {
            "total": {"key": "total", "expected": 22, "responded": 7, "suppressed": ""},
            "davies_groups": [
                {"key": "senior_clinical", "expected": None, "responded": None, "suppressed": "small"},
                {"key": "operational_clinical", "expected": None, "responded": None, "suppressed": "differencing"},
            ],
        },
    }
    scrubbed = scrub._scrub_data(data)
    assert scrubbed["objectives"][0]["groups"] == [
        {"group": "clinical", "n": 5, "mean": "3.00"},
        {"group": "senior_clinical", "n": None, "mean": None},
    ]
    assert {row["suppressed"] for row in scrubbed["responses"]["davies_groups"]} == {"hidden"}
    assert scrubbed["responses"]["total"]["responded"] == 7
