"""Domains contribute dashboard panels without the kernel knowing them: listed in /api/meta, served
from the domain's own static folder."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from cityops.core.domain import Domain


def test_meta_lists_each_domains_panels_with_a_servable_module(client: TestClient) -> None:
    kernel_domains: list[Domain] = client.app.state.kernel.domains  # type: ignore[attr-defined]
    declared = {(d.name, p.id): p for d in kernel_domains for p in d.panels}
    assert declared, "no installed domain declares a panel: nothing here would be checked"
    meta = client.get("/api/meta").json()
    listed = {(p["domain"], p["id"]): p for p in meta["panels"]}
    assert listed.keys() == declared.keys()
    for (domain, _), panel in listed.items():
        assert panel["module"].startswith(f"/static/domains/{domain}/")
        assert set(panel["title"]) == {"vi", "en", "ja"} and all(panel["title"].values())
        response = client.get(panel["module"])
        assert response.status_code == 200, panel["module"]
        assert response.headers["content-type"].startswith("text/javascript")
        assert "export" in response.text and "mount" in response.text
    ranks = [(declared[(p["domain"], p["id"])].order, p["domain"]) for p in meta["panels"]]
    assert ranks == sorted(ranks), "tabs come by (order, domain name)"


def test_domain_static_folders_do_not_leak_outside(client: TestClient) -> None:
    domains: list[Domain] = client.app.state.kernel.domains  # type: ignore[attr-defined]
    served = [d for d in domains if d.static_folder is not None]
    assert served, "no installed domain has a static folder: nothing here would be checked"
    for domain in served:
        assert isinstance(domain.static_folder, Path)
        response = client.get(f"/static/domains/{domain.name}/../../../pyproject.toml")
        assert response.status_code == 404
    assert client.get("/static/domains/no-such-domain/panel.js").status_code == 404
