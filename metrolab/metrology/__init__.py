"""MetroLab's metrology calculation library (R6.2a, R8b).

Pure Python with numpy and scipy, no Django: a metrologist can use it on its own.

- `rounding`: GB/T 8170-2008 rounding; JJF 1059.1-2012 reporting of a value with its uncertainty.
- `statistics`: Type A statistics, repeatability, hysteresis, linearity, least-squares lines.
- `model`: measurement models written as expressions, parsed safely, with exact derivatives.
- `gum`: the law of propagation of uncertainty (JCGM 100:2008, JJF 1059.1-2012).
- `montecarlo`: propagation of distributions (JCGM 101:2008, JJF 1059.2-2012).
- `conformity`: conformity decisions (JJF 1094-2002, ILAC-G8:09/2019, JCGM 106:2012).
- `corrections`: the correction, U and k at a value from calibration points.
- `rules`: the safe rule language of record templates (exact decimal arithmetic).
- `record_template`: the record-template format, its validation and evaluator, and the
  built-in templates (`builtin_templates/`; docs/record-templates.md).
"""
