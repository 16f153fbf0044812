/*
Package network is the simulated network of an etcdsim world: directed links
between endpoints identified by int (members and clients), each with a delay
distribution, loss, duplication and reordering, and partitions that come and
go. It moves no bytes: Send decides, when a message leaves, whether and when
its copies arrive, and the world schedules their delivery.

# Faults

All of these are inside what raft promises to survive (it assumes an
asynchronous network that may lose, duplicate, delay and reorder messages),
so a correct model must stay safe under any mix of them, and live once they
stop.

  - Delay: each copy takes a one-way delay uniform in [DelayMin, DelayMax],
    or in the range SetLinkDelay gave its link (a slow link).
  - Drop: a message is lost with probability Drop.
  - Duplicate: a message arrives twice with probability Duplicate, each copy
    with its own delay (a retransmission that raced the original).
  - Reorder: a copy is held back by an extra delay in (0, ReorderMax], so
    that later messages can overtake it.
  - Bursts: SetBurst worsens every link for a while (extra drop, duplicate
    and delay), as a congested switch or a GC pause of a proxy does.
  - Partitions: Partition splits endpoints into groups that cannot talk both
    ways; Cut cuts one direction of one link (an asymmetric partition, the
    kind PreVote and CheckQuorum exist for); Heal removes both. A message is checked at send and again at delivery
    (Deliverable): it never crosses a partition in place when it arrives.

Since and StableFor tell the fault scheduler how long the partition state has
held, so that on/off faults keep a minimum stability window, as TigerBeetle's
VOPR does.

# Determinism

Every decision draws from the rng handed to New, in a fixed order per Send
(documented there); a zero ratio or an empty range draws nothing, and a cut
link draws nothing, so a perfect network consumes no randomness. Nothing iterates a
Go map where order could reach a decision or output: String sorts.
*/
package network
