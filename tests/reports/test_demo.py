"""`relais demo` shows the dashboards with something in every part that matters."""

from __future__ import annotations

import re

from lms.demo import DEMO_PASSWORD
from tests.support import load_demo_once


def test_demo_dashboards(client):
    load_demo_once()

    def page(email: str) -> str:
        client.post("/logout")
        client.post("/login", data={"email": email, "password": DEMO_PASSWORD})
        response = client.get("/o/demo/", headers={"Accept-Language": "en"})
        assert response.status_code == 200
        return response.get_data(as_text=True)

    trainer = page("formatrice@maison-lumiere.example")
    assert "Groupe pilote — automne" in trainer
    assert re.search(r"Submissions to review|Rendus à relire", trainer)
    assert "Léa Dubois" in trainer  # her profile exercise awaits review
    assert re.search(r"(Learners falling behind|Apprenants en retard) <span class=\"muted\">"
                     r"\(\d+\)", trainer)
    learner = page("camille.martin@maison-lumiere.example")
    assert len(re.findall(r'<progress max="100" value="\d+"', learner)) >= 2
    assert re.search(r"Next steps|Prochaines étapes|Program completed|Parcours terminé|"
                     r"Programme terminé", learner)
