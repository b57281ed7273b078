"""Quality harness: clustering, summaries and faithfulness on ``shared/eval-data``.

Run the parts with ``python -m eval.clustering``, ``python -m eval.summaries``,
``python -m eval.faithfulness``; the CI gate is ``python -m eval.gate``.
"""
