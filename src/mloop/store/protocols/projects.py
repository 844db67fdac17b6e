"""The storage seam of projects: the namespaces that names live in.

Every store has project ``default``. A project is also made when something is
first created in it (an experiment, a dataset version, a registered model),
so naming a new project is enough to start using it.
"""

from __future__ import annotations

from typing import Protocol

from mloop.entities import Project


class ProjectStore(Protocol):
    """Projects by name.

    Contract:
    - ``create_project`` raises AlreadyExists for a name in use;
    - ``get_project`` raises NotFound for an unknown name;
    - ``list_projects`` returns every project by name, ``default`` among them.
    """

    def create_project(self, name: str, *, description: str = "") -> Project:
        """Create an empty project."""

    def get_project(self, name: str) -> Project:
        """The project with this name."""

    def list_projects(self) -> list[Project]:
        """Every project, by name."""
