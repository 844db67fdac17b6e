"""Every domain's store protocol: data crosses them (ids, entities, plain values), nothing else."""
