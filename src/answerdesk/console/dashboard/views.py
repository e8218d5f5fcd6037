"""`/console/accounts/<number>/dashboard`: the last 30 days of one account."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from answerdesk import clock
from answerdesk.console.dashboard.chart import layout
from answerdesk.console.desk.access import open_account
from answerdesk.console.web.pages import Page, view
from answerdesk.messages.stats import dashboard as dashboard_figures

DAYS = 30


@view()
def dashboard(page: Page) -> Response:
    """Show the chart, the totals and the median time to delivery."""
    number = str(page.request.path_params["number"])
    with page.read() as connection:
        account = open_account(connection, user=page.me, number=number)
        today = clock.utcnow().astimezone(account.zone).date()
        figures = dashboard_figures(
            connection, account=account, today=today, days=DAYS, past=page.state.past_days
        )
    return page.render(
        "dashboard/dashboard.html",
        account=account,
        figures=figures,
        chart=layout(figures.days),
        days=DAYS,
        tab="dashboard",
    )


def routes() -> list[BaseRoute]:
    return [Route("/accounts/{number}/dashboard", dashboard, methods=["GET"])]
