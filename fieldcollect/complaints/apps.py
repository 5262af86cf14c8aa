from django.apps import AppConfig


class ComplaintsConfig(AppConfig):
    name = "fieldcollect.complaints"
    verbose_name = "Complaints and feedback"

    def ready(self) -> None:
        # complaints and the customers' feedback feed the agency scorecard
        from fieldcollect.complaints import selectors
        from fieldcollect.scorecards import hooks

        hooks.register("complaints", selectors.complaints_for_scorecard)
        hooks.register("feedback_score", selectors.feedback_score_for_scorecard)
