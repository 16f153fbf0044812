package sim

import (
	"fmt"
	"strings"

	"github.com/etcdsim/etcdsim/nodes"
)

// The membership commands of a scenario (world ... membership=1).

// memberKinds maps a scenario command to its cluster API request.
var memberKinds = map[string]nodes.Kind{
	"member-add": nodes.KindMemberAdd, "member-promote": nodes.KindMemberPromote, "member-remove": nodes.KindMemberRemove,
	"member-update": nodes.KindMemberUpdate, "member-list": nodes.KindMemberList,
}

// memberRequest builds a cluster API request: id= names the member it is
// about (not for member-list), learner asks for a learner, as= the user
// the client acts as (root by default).
func (s *Scenario) memberRequest(cmd string, a scenarioArgs) (*nodes.Request, string, error) {
	if !s.w.cl.membership {
		return nil, "", fmt.Errorf("sim: %s needs a world with membership=1", cmd)
	}
	req := &nodes.Request{Kind: memberKinds[cmd], User: a.str("as", "root")}
	desc := cmd
	if cmd != "member-list" {
		id, err := a.uint("id", 0)
		if err != nil || id == 0 || id > maxScriptedID {
			return nil, "", fmt.Errorf("sim: %s needs id=N with N in 1..%d", cmd, maxScriptedID)
		}
		req.MemberID = id
		desc += fmt.Sprintf(" m%d", id)
	}
	switch cmd {
	case "member-add":
		req.Learner = a.has("learner")
		if req.Learner {
			desc += " as learner"
		}
		req.PeerURL = peerURL(int(req.MemberID))
	case "member-update":
		req.PeerURL = peerURL(int(req.MemberID))
		if i, ok := s.w.cl.byID(req.MemberID); ok {
			req.PeerURL = peerURL(s.w.cl.members[i].host)
		}
	}
	if req.User != "" {
		desc += " as " + req.User
	}
	return req, desc, nil
}

// authSetup runs root's auth setup through a member, one request at a
// time, each waiting for its answer.
func (s *Scenario) authSetup(a scenarioArgs) (string, error) {
	i, err := s.member(a)
	if err != nil {
		return "", err
	}
	var lines []string
	for _, req := range authSetup() {
		req.User = "root"
		lines = append(lines, s.await(i, req, strings.Join(strings.Fields(req.Kind.String()+" "+req.Name+" "+req.Role), " ")))
	}
	return strings.Join(lines, "\n"), nil
}

// startJoined starts a member added at runtime for the first time.
func (s *Scenario) startJoined(a scenarioArgs) (string, error) {
	i, err := s.member(a)
	if err != nil {
		return "", err
	}
	sl := s.w.cl.members[i]
	switch {
	case !sl.join:
		return "", fmt.Errorf("sim: m%d bootstrapped the cluster; restart it instead", sl.id)
	case sl.pending:
		return fmt.Sprintf("m%d is not in the cluster: its add has not committed", sl.id), nil
	case sl.started:
		return fmt.Sprintf("m%d started before; restart it instead", sl.id), nil
	}
	s.w.cl.startJoined(i)
	return s.memberLine(i), nil
}

// await sends req from an idle client to member i and steps the world
// until its answer or its timeout.
func (s *Scenario) await(i int, req *nodes.Request, desc string) string {
	c := s.idleClient()
	if c == nil {
		return "every client is waiting for an answer"
	}
	c.target = i
	s.w.wl.issue(c, req)
	desc = fmt.Sprintf("#%d %s @m%d", req.ID, desc, s.w.cl.members[i].id)
	s.reqs[req.ID] = desc
	var got string
	s.waitID, s.got = req.ID, &got
	s.stepUntil(func(Event) bool { return got != "" }, forever)
	s.waitID, s.got = 0, nil
	return s.flushNotes() + got
}
