"""Experiments of the paper, each writing its results into a run directory.

Modules, each importing only those listed above it (and the layers below:
``evaluation``, ``estimators``, ``data``, ``engine``):

- ``settings``: :class:`FitSettings`, every setting of ``deeplasso fit``;
- ``config``: settings from a TOML file and command-line flags;
- ``rundir``: a run directory's files and what its saved results hold;
- ``reporting``: Markdown numbers and tables, the optional figures module;
- ``prepare``: the arrays a run's settings name;
- ``fit_report``: figures and ``report.md`` of a fit run, from its files;
- ``fit``: the main job, one path evaluated into a run directory;
- ``studies``: the paper's studies as tasks, sized by a budget;
- ``reproduce_report``: ``report.md`` and figures of a reproduction;
- ``reproduce``: runs a reproduction's tasks;
- ``report``: redraws either kind of run directory (``deeplasso report``).
"""
