"""Worked examples the calculator page can load (each from a published source)."""

from django.utils.translation import gettext_lazy as _

EXAMPLES = {
    "h2": {
        "title": _("GUM H.2: resistance and reactance from simultaneous readings"),
        "source": "JCGM 100:2008 Annex H.2, Table H.2",
        "spec": {
            "model": {"R": "V/I*cos(phi)", "X": "V/I*sin(phi)", "Z": "V/I"},
            "inputs": {
                "V": {"readings": [5.007, 4.994, 5.005, 4.990, 4.999]},
                "I": {"readings": [19.663e-3, 19.639e-3, 19.640e-3, 19.685e-3, 19.678e-3]},
                "phi": {"readings": [1.0456, 1.0438, 1.0468, 1.0428, 1.0433]},
            },
            # r from the simultaneous readings (GUM eq. 17), as in Table H.2.
            "correlations": [["V", "I", -0.3553], ["V", "phi", 0.8576], ["I", "phi", -0.6451]],
            "coverage": {"k": 2},
            "method": "gum",
            "units": {"V": "V", "I": "A", "phi": "rad", "R": "Ω", "X": "Ω", "Z": "Ω"},
        },
    },
    "mass": {
        "title": _("JCGM 101 §9.3: mass calibration, Monte Carlo"),
        "source": "JCGM 101:2008 §9.3, Table 10",
        "spec": {
            "model": {"dm": "(mRc + dmRc) * (1 + (rho_a - 1.2) * (1/rho_W - 1/rho_R)) - 100000"},
            "inputs": {
                "mRc": {"value": 100000.000, "u": 0.050},
                "dmRc": {"value": 1.234, "u": 0.020},
                "rho_a": {"value": 1.20, "distribution": "rectangular", "half_width": 0.10},
                "rho_W": {"value": 8000, "distribution": "rectangular", "half_width": 1000},
                "rho_R": {"value": 8000, "distribution": "rectangular", "half_width": 50},
            },
            "coverage": {"p": 0.95},
            "method": "mc",
            "trials": 1000000,
            "interval": "shortest",
            "seed": 1,
            "units": {
                "dm": "mg",
                "mRc": "mg",
                "dmRc": "mg",
                "rho_a": "kg/m³",
                "rho_W": "kg/m³",
                "rho_R": "kg/m³",
            },
        },
    },
    "additive": {
        "title": _("JCGM 101 §9.2: additive model, rectangular inputs"),
        "source": "JCGM 101:2008 §9.2.3",
        "spec": {
            "model": {"Y": "X1 + X2 + X3 + X4"},
            "inputs": {
                "X1": {"value": 0, "distribution": "rectangular", "half_width": 1.7320508075688772},
                "X2": {"value": 0, "distribution": "rectangular", "half_width": 1.7320508075688772},
                "X3": {"value": 0, "distribution": "rectangular", "half_width": 1.7320508075688772},
                "X4": {"value": 0, "distribution": "rectangular", "half_width": 1.7320508075688772},
            },
            "coverage": {"p": 0.95},
            "method": "mc",
            "trials": 1000000,
            "seed": 1,
        },
    },
}
