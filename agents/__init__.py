"""Search agents behind one interface (:class:`archgym.agent.Agent`).

Agents are looked up by their config name through :func:`archgym.registry.make_agent`,
which imports an agent's module only when it is used (so a random search never imports
BoTorch or Stable-Baselines3).
"""
