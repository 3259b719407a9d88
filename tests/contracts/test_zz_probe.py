import cProfile, pstats
import ape

def test_probe(registry, register, brand, distributor, retailer, chain, networks):
    ids = register("A")
    pr = cProfile.Profile()
    pr.enable()
    for i in range(5):
        try:
            registry.offer(ids[0], distributor, sender=retailer)
        except ape.exceptions.ContractLogicError:
            pass
    pr.disable()
    pstats.Stats(pr).sort_stats("cumulative").print_stats(40)
