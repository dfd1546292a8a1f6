"""What works: the good-practice library of collaborations and interventions, the landscape review of partners (a
survey with its analysis) and the partnership's work plan. Nothing here is about a person: entries, surveys and plan
items describe services and organisations; every change is still audited in the same transaction."""
