"""Controlled studies: arms declared in a study file, run through mmengine's Runner as
``tools/train.py`` runs them, resumably, with paired statistics, tables and figures
(``tools/analysis/study.py``)."""
from .report import write_report
from .runner import Planner, Run, run_study
from .spec import Study, StudyError, load_study, select_arms
from .stats import Paired, Summary, paired, summarize, verdict

__all__ = ['Study', 'StudyError', 'load_study', 'select_arms', 'Planner', 'Run', 'run_study',
           'write_report', 'Summary', 'Paired', 'summarize', 'paired', 'verdict']
