"""Metabase dynamic provider: setup, databases, collections, cards, dashboards, permissions.

Type tokens are ``pulumi-python:dynamic/metabase:<Kind>``. See README.md in this folder.
"""

from .base import MetabaseConnection
from .card import Card, CardArgs
from .collection import Collection, CollectionArgs
from .dashboard import Dashboard, DashboardArgs
from .database import Database, DatabaseArgs, bigquery_details, postgres_details
from .permissions import (
    CollectionPermissions,
    CollectionPermissionsArgs,
    DataPermissions,
    DataPermissionsArgs,
    PermissionsGroup,
    PermissionsGroupArgs,
)
from .setup import MetabaseSetup, MetabaseSetupArgs

__all__ = [
    "Card",
    "CardArgs",
    "Collection",
    "CollectionArgs",
    "CollectionPermissions",
    "CollectionPermissionsArgs",
    "Dashboard",
    "DashboardArgs",
    "DataPermissions",
    "DataPermissionsArgs",
    "Database",
    "DatabaseArgs",
    "MetabaseConnection",
    "MetabaseSetup",
    "MetabaseSetupArgs",
    "PermissionsGroup",
    "PermissionsGroupArgs",
    "bigquery_details",
    "postgres_details",
]
