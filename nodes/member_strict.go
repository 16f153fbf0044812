package nodes

import "time"

// The --strict-reconfig-check checks of etcd's server.go and RaftCluster,
// each on the membership and the transport of the member that received
// the request.

// mayAddMember refuses an add that --strict-reconfig-check refuses: a
// voter is added only if the started voters would still be a quorum
// (IsReadyToAddVotingMember), and any member only if this member has been
// connected to a quorum of the grown cluster for HealthInterval
// (isConnectedToQuorumAfterAddingNewMemberSince, #21667).
func (m *Member) mayAddMember(learner bool) error {
	voting := m.state.Cluster.voting()
	if !learner && !readyToAddVoter(voting) {
		return errNotEnoughStarted
	}
	if len(voting) > 1 && m.connected(voting) < (len(voting)+1)/2+1 {
		return errUnhealthy
	}
	return nil
}

// readyToAddVoter is IsReadyToAddVotingMember: the started voters must be
// a quorum of the grown cluster, except when a one-member cluster grows.
func readyToAddVoter(voting []ClusterMember) bool {
	nmembers, nstarted := len(voting)+1, 0
	for _, v := range voting {
		if v.IsStarted() {
			nstarted++
		}
	}
	if nstarted == 1 && nmembers == 2 {
		return true
	}
	return nstarted >= nmembers/2+1
}

// mayRemoveMember refuses a removal --strict-reconfig-check refuses:
// removing a learner always passes; a voter, only if the started voters
// left are a quorum (IsReadyToRemoveVotingMember) and, if this member has
// been in touch with it, only if the members connected for HealthInterval
// less the removed one are a quorum of the cluster left.
func (m *Member) mayRemoveMember(id uint64) error {
	if t := m.state.Cluster.Member(id); t != nil && t.IsLearner {
		return nil
	}
	voting := m.state.Cluster.voting()
	nmembers, nstarted := 0, 0
	for _, v := range voting {
		if v.ID == id {
			continue
		}
		nmembers++
		if v.IsStarted() {
			nstarted++
		}
	}
	if nstarted < nmembers/2+1 {
		return errNotEnoughStarted
	}
	if _, active := m.activeFor(id); id != m.cfg.ID && !active {
		return nil // a member that is down is safe to remove
	}
	if m.connected(voting)-1 < 1+(len(voting)-1)/2 {
		return errUnhealthy
	}
	return nil
}

// connected is numConnectedSince(now - HealthInterval): the voters this
// member has been linked to for HealthInterval, itself included.
func (m *Member) connected(voting []ClusterMember) int {
	n := 0
	for _, v := range voting {
		if d, ok := m.activeFor(v.ID); v.ID == m.cfg.ID || ok && d > healthInterval {
			n++
		}
	}
	return n
}

// activeFor asks the transport how long the link to peer has been up.
func (m *Member) activeFor(peer uint64) (d time.Duration, ok bool) {
	if m.cfg.Transport == nil {
		return 0, false
	}
	return m.cfg.Transport.ActiveFor(peer)
}
