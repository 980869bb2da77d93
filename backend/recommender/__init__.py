"""The recommender: intent routing, request understanding, retrieval, ranking, replies, chat."""
