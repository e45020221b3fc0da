"""The first-party hub catalogue: flows maintained with aiflows, trusted by every hub client.

Each folder here is a hub flow (`flow.yaml`, code, prompts, README, tests); `index.yaml` lists
them and is what the hub client reads, like any other index source. After changing a flow run
`aiflows hub check flows_hub/<flow>` and `aiflows hub index flows_hub`; CI runs
`aiflows hub index --check flows_hub`.
"""

__all__: list[str] = []
