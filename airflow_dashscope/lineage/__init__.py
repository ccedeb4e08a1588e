"""What the provider tells Airflow about the models it makes: asset events and OpenLineage."""
