from django.apps import AppConfig


class QaConfig(AppConfig):
    name = "fieldcollect.qa"
    verbose_name = "Quality inspection"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from fieldcollect.qa import selectors, signals
        from fieldcollect.qa.penalties import QaFindingSource
        from fieldcollect.scorecards import hooks
        from fieldcollect.settlement.penalties import register_penalty_source
        from fieldcollect.visits.models import Evidence

        register_penalty_source(QaFindingSource())  # confirmed findings cost the agency per its contract
        # and lower its scorecard (the conduct component)
        hooks.register("conduct_findings", selectors.conduct_findings_for_scorecard)

        post_save.connect(signals.evidence_saved, sender=Evidence, dispatch_uid="qa.visit_recording")
