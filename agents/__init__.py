"""Search agents behind one interface (:class:`archgym.agent.Agent`).

Agents are looked up by their config name through :func:`archgym.registry.make_agent`,
which imports an agent's module only when it is used (so a random search never imports
BoTorch or Stable-Baselines3). Hyperparameters live in ``conf/agent/<name>.yaml``.

=========  =============================================  =========================
name       agent                                          module
=========  =============================================  =========================
``random`` uniform random search                          :mod:`.random_search`
``rw``     random walk in the index encoding              :mod:`.random_search`
``ga``     genetic algorithm (tournament / elitist)       :mod:`.evolution`
``aging``  regularised (aging) evolution                  :mod:`.evolution`
``aco``    ant colony optimisation                        :mod:`.ant_colony`
``bo``     Bayesian optimisation (BoTorch, qLogEI/NEHVI)  :mod:`.bayesopt`
``tpe``    Optuna TPE (tree-structured Parzen estimator)  :mod:`.optuna_agents`
``cmaes``  Optuna CMA-ES (with margin for integers)       :mod:`.optuna_agents`
``nsga2``  Optuna NSGA-II on the objective's metrics      :mod:`.optuna_agents`
``qmc``    Optuna quasi-random (scrambled Sobol/Halton)   :mod:`.optuna_agents`
``grid``   Optuna grid search (shuffled level grid)       :mod:`.optuna_agents`
``ppo``    Stable-Baselines3 PPO on the env               :mod:`.rl`
``a2c``    Stable-Baselines3 A2C on the env               :mod:`.rl`
``dqn``    Stable-Baselines3 DQN (discrete moves)         :mod:`.rl`
=========  =============================================  =========================

Common behaviour: the budget is a number of simulator evaluations; duplicates proposed by
an agent are answered from the per-run cache (no simulator time) but count toward the
budget, so the evolutionary, ant-colony and BO agents steer away from designs they
already proposed. Every agent is seeded: all randomness comes from ``self.rng`` (and
torch / SB3 generators seeded from it inside
:func:`archgym.agents._common.isolated_global_rngs`, which restores global RNG state).
"""
