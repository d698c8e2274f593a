"""Where Rasa keeps conversations and locks, chosen from the environment (endpoints.yml).

Rasa's own way to scale is several stateless Rasa servers sharing one SQL tracker store
and one Redis lock store. These classes let a single endpoints.yml serve both a laptop
(SQLite file, in-memory locks) and a deployment (PostgreSQL, Redis) without editing it.
"""
